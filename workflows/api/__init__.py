"""The REST API under /api/v1/: Django REST framework over the same domain functions and scope rules as the pages."""
