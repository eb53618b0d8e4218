"""Helpers of the SDK interop tests: the prelude every Node script shares, the environment that
points the SDK at the live server, and running a script body with it."""

from __future__ import annotations

from pancake.api import ids
from tests.factories import private_pem
from tests.node_sdk import run_node

SDK_ERROR_LAYERS = {"gateway", "user", "store", "product", "order", "ticket", "graphql", "resource"}

# Shared by every script: a client from the environment, and a helper that turns a rejected
# call into plain data (WaffoPancakeError keeps the server's status and errors[]).
PRELUDE = """
import { WaffoPancake, WaffoPancakeError } from "@waffo/pancake-ts";

const client = new WaffoPancake({
  merchantId: process.env.PANCAKE_MERCHANT_ID,
  privateKey: process.env.PANCAKE_PRIVATE_KEY,
  baseUrl: process.env.PANCAKE_BASE_URL,
});

async function failure(call) {
  try {
    const value = await call();
    return { rejected: false, value };
  } catch (e) {
    return {
      rejected: true,
      isWaffoPancakeError: e instanceof WaffoPancakeError,
      name: e.name,
      message: e.message,
      status: e.status,
      errors: e.errors,
    };
  }
}

async function main(body) {
  const out = {};
  try {
    await body(out);
  } catch (e) {
    out.fatal = { name: e.name, message: e.message, status: e.status, errors: e.errors };
  }
  console.log(JSON.stringify(out));
}
"""


def sdk_env(merchant, key, live_server) -> dict:
    return {
        "PANCAKE_MERCHANT_ID": ids.encode("MER", merchant.pk),
        "PANCAKE_PRIVATE_KEY": private_pem(key),
        "PANCAKE_BASE_URL": live_server.url,
    }


def run_sdk(body: str, env: dict) -> dict:
    result = run_node(PRELUDE + f"\nawait main(async (out) => {{\n{body}\n}});\n", env)
    assert "fatal" not in result, result["fatal"]
    return result
