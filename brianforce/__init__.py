"""brianforce: train recurrent spiking networks in Brian2 to do what rate networks do."""
from .rls import RLS

__version__ = "0.1.0"
__all__ = ["RLS", "__version__"]
