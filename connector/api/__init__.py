"""The Sipalto API: the HTTP client (``client``), what its answers mean (``responses``) and
the pacer that keeps it under the server's rate limit (``pacing``)."""
