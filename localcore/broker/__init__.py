"""An asyncio MQTT 3.1.1 + 5.0 broker that behaves like AWS IoT Core's message broker."""
