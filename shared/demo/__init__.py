"""Demo traffic: a deterministic generator of realistic events for a demo site."""
