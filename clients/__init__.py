"""iotstream clients: sign-in, SigV4 WebSocket connect, stream reassembly, terminal and browser UIs."""
