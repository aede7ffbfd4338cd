"""Local servers for the backend tests, each on 127.0.0.1 and a free port."""
