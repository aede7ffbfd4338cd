"""An emulated wide-area network on loopback: a TCP proxy that delivers each
chunk a fixed delay after it arrived (each way) and caps each connection's
bandwidth (each way). This kernel has no netem; this is the next best thing.

Run: ``python benchmarks/wan_proxy.py LISTEN_PORT TARGET_PORT [--delay 0.01]
[--rate 50e6]`` (127.0.0.1 on both sides). It prints ``ready`` once it
listens. A chunk is what one read of the socket gave (up to 64 KiB); chunks
are pipelined, so the delay is a latency, not a pause per chunk.
"""

import argparse
import asyncio
import time


CHUNK = 64 * 1024


async def pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float, rate: float
) -> None:
    """Copy one direction: each chunk leaves ``delay`` seconds after it came,
    and no faster than ``rate`` bytes per second.
    """
    queue: asyncio.Queue = asyncio.Queue()

    async def receive() -> None:
        while True:
            data = await reader.read(CHUNK)
            await queue.put((time.monotonic() + delay, data))
            if not data:
                return

    async def send() -> None:
        free_at = 0.0
        while True:
            due, data = await queue.get()
            if not data:
                break
            start = max(due, free_at)
            wait = start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
            free_at = start + len(data) / rate
        writer.close()

    task = asyncio.ensure_future(receive())
    try:
        await send()
    except (ConnectionError, OSError):
        pass
    finally:
        task.cancel()


async def serve(listen: int, target: int, delay: float, rate: float) -> None:
    """Accept connections on ``listen`` and relay each to ``target``."""
    async def handle(client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection('127.0.0.1', target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            pump(client_reader, server_writer, delay, rate),
            pump(server_reader, client_writer, delay, rate),
            return_exceptions=True,
        )

    server = await asyncio.start_server(handle, '127.0.0.1', listen)
    print('ready', flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    """Parse the arguments and relay until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('listen', type=int)
    parser.add_argument('target', type=int)
    parser.add_argument('--delay', type=float, default=0.010, help='seconds, each way')
    parser.add_argument('--rate', type=float, default=50e6, help='bytes/s per connection, each way')
    args = parser.parse_args()
    asyncio.run(serve(args.listen, args.target, args.delay, args.rate))


if __name__ == '__main__':
    main()
