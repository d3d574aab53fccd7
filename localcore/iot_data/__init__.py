"""The iot-data endpoint (`AWS_ENDPOINT_URL_IOT_DATA_PLANE`): HTTP Publish into the broker."""
