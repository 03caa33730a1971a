"""Face Studio: explore faces with a Variational Autoencoder."""

__version__ = "0.1.0"
