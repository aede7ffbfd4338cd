"""One small module per backend: build the fsspec filesystem from the
backend's own settings and serialize the flowserv document; nothing else.
"""
