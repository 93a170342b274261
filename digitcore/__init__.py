"""digitcore: read handwritten digits with a hard-voting ensemble trained on MNIST."""

__version__ = "0.1.0"
