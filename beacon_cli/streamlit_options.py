"""Streamlit's options for `beacon dashboard`, loaded the way `streamlit run` loads them.

`beacon dashboard` serves Streamlit's ASGI app (`st.App`) with uvicorn, not through the
`streamlit run` command. That command is the only place where Streamlit turns its
`STREAMLIT_*` environment variables and `--section.option` flags into options; `st.App`
alone reads the config files only. So this module does what `streamlit run` does:
after `st.App` has named the script (which makes Streamlit read the script's own
dashboard_app/.streamlit/config.toml), it re-reads the config files and lays the
environment's `STREAMLIT_*` variables and our fixed options over them as flags.

The fixed options are the promises a privacy product makes whatever the environment
says: no usage statistics (otherwise the page itself asks a Streamlit host for its
metrics configuration - a third-party request from the user's browser), a server that
opens no browser, and no file watcher.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Forced, whatever the environment says (see the module docstring).
FIXED_OPTIONS: dict[str, Any] = {
    "browser.gatherUsageStats": False,
    "server.headless": True,
    "server.runOnSave": False,
    "server.fileWatcherType": "none",
    # The banner makes Streamlit look up the machine's external address at a third party.
    "logger.hideWelcomeMessage": True,
}


def environment_options(environ: Mapping[str, str]) -> dict[str, Any]:
    """The options an operator set as `STREAMLIT_<SECTION>_<OPTION>` variables, converted
    to each option's type as `streamlit run` converts them (sensitive options are left to
    Streamlit, which reads those itself)."""
    import click
    from streamlit import config

    found: dict[str, Any] = {}
    for key, option in config.get_config_options().items():
        raw = environ.get(option.env_var)
        if raw is None or option.sensitive or option.deprecated or option.type is None:
            continue
        kind = click.types.convert_type(option.type)
        try:
            found[key] = (tuple(kind.convert(v, None, None) for v in raw.split())
                          if option.multiple else kind.convert(raw, None, None))
        except click.BadParameter as exc:
            raise SystemExit(f"{option.env_var}: {exc.message}") from exc
    return found


def load_streamlit_options(environ: Mapping[str, str]) -> None:
    """Re-read Streamlit's config files (the script's own included: call this after
    `st.App(...)`), then apply the environment's options and the fixed ones on top."""
    from streamlit import config

    flags = {**environment_options(environ), **FIXED_OPTIONS}
    config.get_config_options(force_reparse=True, options_from_flags=flags)
