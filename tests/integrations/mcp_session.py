"""Drive an MCP server on stdio with the SDK's own client: list its tools, call them."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

Calls = Callable[["Session"], Awaitable[Any]]


class Session:
    """One connected client session: `tools` (names) and `call(name, **arguments)`."""

    def __init__(self, session: ClientSession, tools: list[Any]) -> None:
        self.session, self.tools = session, {t.name: t for t in tools}

    async def call(self, tool: str, /, **arguments: Any) -> Any:
        """The tool's answer: its structured result when it has one, else its text
        (parsed when it is JSON); raises ToolFailed with the text of an error result."""
        result = await self.session.call_tool(tool, arguments)
        text = "".join(getattr(c, "text", "") for c in result.content)
        if result.is_error:
            raise ToolFailed(text)
        value: Any = text
        if result.structured_content is not None:
            sc = result.structured_content
            value = sc["result"] if set(sc) == {"result"} else sc
        if isinstance(value, str):          # a tool that returns JSON text
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value


class ToolFailed(Exception):
    pass


def run_session(command: list[str], env: dict[str, str], cwd: str, work: Calls) -> Any:
    """Start the server, initialise, list the tools, run `work(session)`, stop the server."""
    async def main() -> Any:
        params = StdioServerParameters(command=command[0], args=command[1:], env=env, cwd=cwd)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
            listed = await s.list_tools()
            return await work(Session(s, list(listed.tools)))
    return anyio.run(main)
