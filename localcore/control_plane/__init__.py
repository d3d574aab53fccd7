"""The IoT control plane (`AWS_ENDPOINT_URL_IOT`): policies, attachments, topic rules, DescribeEndpoint."""
