"""Delivery over HTTP: the JSON API, the login and token checks, and the server that carries the chat."""
