"""serve: the HTTP API and the web page (``unspin serve``), over the same engine as the CLI.

``app``     the FastAPI app factory: endpoints, limits, cache, errors as JSON (the HTTP process);
``pool``    the engine processes and the one FIFO queue that feeds them;
``worker``  one engine process: the prepared pack, its own index connection, one job at a time;
``errors``  ``ApiError``, what becomes a JSON error;
``models``  pydantic shapes that describe the report contract in the OpenAPI schema;
``cli``     the ``unspin serve`` command (uvicorn);
``static/`` the page: plain HTML, CSS and JS shipped as package data, no build step.
"""
