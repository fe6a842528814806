"""The bundled demo chat API that `omnigate demo` puts behind the gateway."""

from gateway.demo.api import make_demo_app

__all__ = ["make_demo_app"]
