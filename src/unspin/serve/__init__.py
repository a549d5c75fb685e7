"""serve: the HTTP API and the web page (``unspin serve``), over the same engine as the CLI.

``app``     the FastAPI app factory: endpoints, limits, errors as JSON;
``models``  pydantic shapes that describe the report contract in the OpenAPI schema;
``cli``     the ``unspin serve`` command (uvicorn);
``static/`` the page: plain HTML, CSS and JS shipped as package data, no build step.
"""
