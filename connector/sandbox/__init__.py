"""A local emulator of the documented Sipalto API, for trials, the demo and the tests."""
