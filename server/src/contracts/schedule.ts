/** GET /pacta-backup/schedule/preview?expression=&timezone=: whether an expression is a schedule, and when it runs next. */
export declare namespace PreviewSchedule {
  export interface Query {
    expression: string;
    /** IANA time zone; the configured `timezone` when absent. */
    timezone?: string;
  }
  export interface Response {
    data: SchedulePreview;
  }
}

export interface SchedulePreview {
  valid: boolean;
  /** Why the expression (or the time zone) is refused; absent when valid. */
  error?: string;
  /** The next runs as ISO instants, in node-cron's reckoning (empty when invalid). */
  nextRuns: string[];
  /** The time zone the runs were reckoned in. */
  timezone: string;
}
