/**
 * Requests waiting in Probot's cluster throttle, given up when that throttle stops working.
 *
 * With REDIS_URL, a request first waits for its turn in Bottleneck's limiter, which lives in Redis.
 * When Redis goes away (or comes back empty) while a request waits there, the wait can last for
 * ever: the request neither leaves nor fails, and its evaluation holds its request's place in the
 * keyed queue — every later event for that request, a due revoke included, queues behind it on this
 * replica. So a request that has not left yet when the shared throttle becomes unusable is given up
 * (it fails, and its evaluation is retried with a client that does not use the throttle), and if
 * Bottleneck ever lets it go afterwards, it is not sent: a late write could overwrite a newer record.
 */
export class ThrottleWatch {
  private readonly waiting = new Set<Ticket>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    /** Whether the shared throttle can be used now (Redis up, its state not lost). */
    private readonly usable: () => boolean,
    private readonly everyMs = 500,
  ) {}

  /** A ticket for one request, from the moment it is made until it leaves (`leave`) or is given up. */
  track(): Ticket {
    const ticket = new Ticket(() => this.forget(ticket));
    this.waiting.add(ticket);
    if (!this.timer) {
      this.timer = setInterval(() => this.check(), this.everyMs);
      this.timer.unref?.();
    }
    return ticket;
  }

  private check(): void {
    if (this.usable()) return;
    for (const ticket of [...this.waiting]) ticket.giveUp();
  }

  private forget(ticket: Ticket): void {
    this.waiting.delete(ticket);
    if (this.waiting.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

export class ThrottleLostError extends Error {
  constructor() {
    super("a GitHub request was waiting in the cluster's shared throttle when Redis became unusable; it was not sent, and is retried without that throttle");
    this.name = "ThrottleLostError";
  }
}

export class Ticket {
  private state: "waiting" | "sent" | "given-up" = "waiting";
  private onGiveUp: ((error: Error) => void) | undefined;
  /** Rejects when the request is given up; never resolves. */
  readonly givenUp: Promise<never>;

  constructor(private readonly done: () => void) {
    this.givenUp = new Promise<never>((_, reject) => (this.onGiveUp = reject));
    this.givenUp.catch(() => {}); // only awaited in a race: never an unhandled rejection
  }

  /** The request is about to leave: throws if it was given up meanwhile. */
  leave(): void {
    if (this.state === "given-up") throw new ThrottleLostError();
    this.state = "sent";
    this.done();
  }

  /** The request ended without leaving (it failed before): nothing more to watch. */
  end(): void {
    if (this.state === "waiting") this.done();
  }

  giveUp(): void {
    if (this.state !== "waiting") return;
    this.state = "given-up";
    this.done();
    this.onGiveUp?.(new ThrottleLostError());
  }
}
