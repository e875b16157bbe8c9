"""A channel adapter that speaks NATS, not HTTP: publishes one customer
message as a `received` event with the CloudEvents headers Switchboard
reads, using the official Python client (PyPI nats-py).

usage: publish_received.py NATS_URL TENANT CONVERSATION TEXT
Prints the stream sequence JetStream acknowledged.
"""

import asyncio
import json
import os
import sys
import time
import uuid
from datetime import datetime, timezone

import nats


def uuid7() -> str:
    """A UUIDv7 (time-ordered), as Switchboard's event ids are."""
    ms = int(time.time() * 1000)
    raw = bytearray(ms.to_bytes(6, "big") + os.urandom(10))
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


async def main(url: str, tenant: str, conversation: str, text: str) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    event_id = uuid7()
    now = datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
    headers = {
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-source": "python-channel",
        "ce-type": "received",
        "ce-subject": f"{tenant}/{conversation}",
        "ce-time": now,
        "ce-dataschema": "urn:switchboard:schema:received:v1",
        "ce-tenant": tenant,
        "ce-conversation": conversation,
        "ce-correlation": event_id,
        "ce-actor": "channel:python",
        "content-type": "application/json",
        # A new conversation: nothing may be stored on it yet.
        "Nats-Expected-Last-Subject-Sequence": "0",
        "Nats-Expected-Last-Subject-Sequence-Subject": f"conv.{tenant}.{conversation}.>",
        "Nats-Msg-Id": f"python-{event_id}",
    }
    payload = {
        "message_id": f"py-{event_id}",
        "channel": "python",
        "customer": {"id": "persona_001", "tier": "standard"},
        "language": "en",
        "text": text,
    }
    ack = await js.publish(
        f"conv.{tenant}.{conversation}.received",
        json.dumps(payload).encode(),
        headers=headers,
    )
    print(ack.seq)
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
