"""digitcore: read handwritten digits with a hard-voting ensemble trained on MNIST."""
