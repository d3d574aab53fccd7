"""The AWS IoT service, moto-shaped: its state in a backend (`backend.py`: policies, attachments, topic rules),
its HTTP APIs (`api.py`: the control plane, `data_api.py`: iot-data Publish), one error class per AWS code
(`exceptions.py`), and how the device gateway authenticates MQTT connections (`connect_auth.py`)."""
