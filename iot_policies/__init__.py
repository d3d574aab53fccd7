"""IoT policy documents (JSON with ${...} variables) and their evaluator, with AWS IoT Core semantics."""
