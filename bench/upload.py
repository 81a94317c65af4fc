"""Memory of the upload path: does a server process hold a shared file whole?

One server process (the Procfile's web: command, production settings) receives files
of 1, 5 and 25 MiB in a message (the composer's multipart POST), sent in 64 KiB
chunks. For each, the process's peak resident memory (VmHWM) is read before and
after: a path that streams the body to disk and on to storage grows it by a small,
fixed amount whatever the size; one that reads the file whole grows it by the file's
size at least. Prints, per size, the growth and the growth as a share of the file.

    python -m bench.upload [--sizes 1,5,25] [--repeat 3]
"""

import argparse
import http.client
import os
import secrets
import tempfile
import time
from pathlib import Path

from bench import environment
from bench.servers import HOST, start_servers, stop_servers

CHUNK = 64 * 1024
BOUNDARY = "bench-upload-boundary"
MIB = 1024 * 1024


def peak_rss(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def multipart(size):
    """(total length, chunks) of a form with a caption and one file of `size` random-ish bytes."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="body"\r\n\r\nbench upload\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="data.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    block = secrets.token_bytes(CHUNK)

    def chunks():
        yield head
        sent = 0
        while sent < size:
            part = block[: min(CHUNK, size - sent)]
            sent += len(part)
            yield part
        yield tail

    return len(head) + size + len(tail), chunks()


def upload(server, *, slug, session_key, size):
    length, body = multipart(size)
    csrf = secrets.token_hex(16)
    connection = http.client.HTTPConnection(HOST, server.port, timeout=120)
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(length),
        "Cookie": f"sessionid={session_key}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "HX-Request": "true",
        "Host": f"{HOST}:{server.port}",
    }
    started = time.perf_counter()
    connection.request("POST", f"/rooms/{slug}/messages/", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 204:
        raise SystemExit(f"upload of {size} bytes answered {response.status}")
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1,5,25", help="file sizes in MiB, smallest first")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [int(size) * MIB for size in args.sizes.split(",")]

    env = environment.BenchEnvironment(db_name="chat_bench_upload")
    environment.database_recreate(env.db_name)
    environment.django_setup(env)
    environment.migrate()
    room = environment.rooms_create(label="upload", rooms=1, members=1)[0]
    member = room.members[0]
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as media:
        # The server's environment is this process's plus the run's (env.server_environment).
        os.environ.update(
            {"MEDIA_ROOT": media, "ATTACHMENT_RATE": "100000/60", "ATTACHMENT_MAX_BYTES": str(max(sizes))}
        )
        servers = start_servers(1, env=env, log_dir=Path(media))
        try:
            server = servers[0]
            upload(server, slug=room.slug, session_key=member.session_key, size=MIB)  # warm up
            print(f"{'file':>8} {'peak RSS growth':>16} {'growth / file':>14} {'seconds':>8}")
            for size in sizes:
                for _ in range(args.repeat):
                    before = peak_rss(server.pid)
                    seconds = upload(server, slug=room.slug, session_key=member.session_key, size=size)
                    grown = peak_rss(server.pid) - before
                    figures = f"{grown / MIB:>12.1f} MiB {grown / size:>13.0%} {seconds:>8.2f}"
                    print(f"{size // MIB:>5} MiB {figures}")
            print(
                f"stored: {sum(len(files) for _, _, files in os.walk(media))} files; "
                f"server log problems: {len(server.log_problems())}"
            )
        finally:
            stop_servers(servers)
            environment.database_drop(env.db_name)


if __name__ == "__main__":
    main()
