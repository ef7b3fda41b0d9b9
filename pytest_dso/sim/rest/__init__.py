"""The simulated DSO-LV REST APIs, one module per API, on a framework-free request model."""
