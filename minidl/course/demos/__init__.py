"""Runnable demonstrations that train real models; the chapters call them."""
