"""The bench's URLs: the product's, and the bare viewflow flow of bench/bare_flow.py, which the product never
mounts (only bench/transition.py points ROOT_URLCONF here, in its own process)."""

from django.urls import path
from viewflow.workflow.flow.viewset import FlowViewset

from bench.bare_flow import BareFlow
from project.urls import urlpatterns as product_urls

urlpatterns = [path("bench-bare/", FlowViewset(BareFlow).urls), *product_urls]
