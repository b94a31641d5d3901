/** The state API's reply shapes, shared by the server and its clients (the CLI). */
import type { Row } from './rows.js';
import type { Summary } from './summary.js';

/** Ray's list reply: the rows after filters and limit, with the counts before each step. */
export interface ListReply {
  total: number;
  num_filtered: number;
  num_after_truncation: number;
  result: Row[];
  partial_failure_warning: string | null;
  warnings: string[];
}

export type SummaryReply = Summary & { partial_failure_warning: string | null };

/** One record by id (a task: each of its attempts). */
export interface GetReply {
  result: Row[];
  partial_failure_warning: string | null;
}

export type { Row, Summary };
