"""The operations console and the responder app: front-end sources (src/, static/), the assets
the build writes (dist/, not in git), and the Python that serves them and measures them."""
