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
  private unusableSince: number | undefined;
  /** Given-up requests that the throttle let go later, each refused (a metric for tests and logs). */
  refusedLate = 0;

  constructor(
    /** Whether the shared throttle can be used now (Redis up, its state not lost). */
    private readonly usable: () => boolean,
    private readonly everyMs = 500,
    /** How long it must stay unusable first: a reconnection blip gives nothing up. */
    private readonly graceMs = 3_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /**
   * A ticket for one request, from the moment it is made until it ends. It can be given up only
   * while it waits (before it leaves, or between a retry's attempts), never while it is being sent.
   */
  track(): Ticket {
    const ticket = new Ticket(() => this.forget(ticket), () => this.refusedLate++);
    this.waiting.add(ticket);
    if (!this.timer) {
      this.timer = setInterval(() => this.check(), this.everyMs);
      this.timer.unref?.();
    }
    return ticket;
  }

  private check(): void {
    if (this.usable()) {
      this.unusableSince = undefined;
      return;
    }
    this.unusableSince ??= this.now();
    if (this.now() - this.unusableSince < this.graceMs) return;
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
  private state: "waiting" | "sending" | "given-up" | "ended" = "waiting";
  private onGiveUp: ((error: Error) => void) | undefined;
  /** Rejects when the request is given up; never resolves. */
  readonly givenUp: Promise<never>;

  constructor(
    private readonly done: () => void,
    private readonly refused: () => void,
  ) {
    this.givenUp = new Promise<never>((_, reject) => (this.onGiveUp = reject));
    this.givenUp.catch(() => {}); // only awaited in a race: never an unhandled rejection
  }

  /** An attempt is about to leave: throws if the request was given up meanwhile. */
  leave(): void {
    if (this.state === "given-up") {
      this.refused();
      throw new ThrottleLostError();
    }
    this.state = "sending";
  }

  /** The attempt has its answer (or failed): a retry would wait in the throttle again. */
  back(): void {
    if (this.state === "sending") this.state = "waiting";
  }

  /** The request is over, one way or the other: nothing more to watch. */
  end(): void {
    if (this.state !== "given-up") this.state = "ended";
    this.done();
  }

  giveUp(): void {
    if (this.state !== "waiting") return;
    this.state = "given-up";
    this.done();
    this.onGiveUp?.(new ThrottleLostError());
  }
}
