"""iotstream's Lambda functions and the streaming library they share, as one package.

Each function is a subpackage with a `handler` module (`iotstream_lambdas.prompt.handler.handler`);
`functions.json` beside this file is the manifest CDK deploys and localcore runs, with this package's
parent folder as the code root (the Lambda asset).
"""
