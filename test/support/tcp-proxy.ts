import net from "node:net";

/**
 * A TCP forwarder in front of a real server, to take the network away from
 * the ETL mid-run and give it back. It forwards bytes; it answers nothing itself.
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private requestsSeen = 0;
  private readonly listeners: Array<{ atRequests: number; fire: () => void }> = [];
  port = 0;
  private readonly upstreamHost: string;
  private readonly upstreamPort: number;

  constructor(upstreamHost: string, upstreamPort: number) {
    this.upstreamHost = upstreamHost;
    this.upstreamPort = upstreamPort;
  }

  /** The requests `whenRequests` counts: bulk writes. */
  private readonly countedRequest = /^POST \/[^ ]*_bulk/;

  async start(port = 0): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.upstreamPort, this.upstreamHost);
      this.sockets.add(client).add(upstream);
      client.on("data", (chunk: Buffer) => {
        if (this.countedRequest.test(chunk.subarray(0, 200).toString("latin1"))) {
          this.requestsSeen++;
          for (const l of this.listeners) if (this.requestsSeen === l.atRequests) l.fire();
        }
      });
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on("error", close).on("close", close);
      upstream.on("error", close).on("close", close);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Bulk requests that have passed through so far. */
  get bulkRequests(): number {
    return this.requestsSeen;
  }

  /** Resolves when the n-th matching request has passed through. */
  whenRequests(n: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.requestsSeen >= n) resolve();
      else this.listeners.push({ atRequests: n, fire: resolve });
    });
  }

  /** Drops every connection and refuses new ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async restore(): Promise<void> {
    await this.start(this.port);
  }
}
