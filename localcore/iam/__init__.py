"""IAM for localcore: what a signed-in principal may do (`principals.py`), the check in front of every signed
HTTP API (`authorizer.py`), and the local admin's key kept private in the state dir (`admin_key.py`)."""
