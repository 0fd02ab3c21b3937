"""What the plugin serves over HTTP: request resolution, the streamed exports and JSON API,
the browse page and the output renderers, all on the engine."""
