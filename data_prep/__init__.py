"""Raw sources -> the directed dyad-year panel of McWard & Yoon (2023), as an xarray.Dataset."""

__version__ = "0.1.0"
