"""The Karlstad citizen assistant's gateway: the only service a browser talks to."""
__version__ = "0.1.0"
