// Error codes and messages of the exported classifier (docs/embedding.md lists them). Messages are
// ASCII, written into a fixed buffer: no allocation, so a failing call cannot exhaust anything.
import { W_MSG, MSG_BYTES } from './work';

export const E_OK = 0;
export const E_NO_MODEL = 1;
export const E_MEMORY = 2;
export const E_STATE = 3;
export const E_FEATURES = 4;
export const E_ROWS = 5;
export const E_POINTER = 6;
export const E_NOT_FINITE = 7;
export const E_TOO_MANY = 8;
export const E_EMPTY = 9;
export const E_STREAM = 10;

export let lastError: i32 = 0;
export let msgLen: i32 = 0;
/** Before the work area exists (no model, no memory), messages go to a small static buffer. */
const EARLY: usize = memory.data(128);

export function msgBase(): usize {
  return W_MSG != 0 ? W_MSG : EARLY;
}

function cap(): i32 {
  return W_MSG != 0 ? MSG_BYTES : 128;
}

export function fail(code: i32, text: string): i32 {
  lastError = code;
  msgLen = 0;
  return say(text);
}

/** Appends text to the message; returns the current error code (so `return say(...)` chains). */
export function say(text: string): i32 {
  for (let i = 0; i < text.length; i++) put(<u8>text.charCodeAt(i));
  return lastError;
}

function put(c: u8): void {
  if (msgLen >= cap()) return;
  store<u8>(msgBase() + <usize>msgLen, c);
  msgLen++;
}

export function sayInt(v: i64): i32 {
  if (v < 0) {
    say('-');
    v = -v;
  }
  let div: i64 = 1;
  while (v / div >= 10) div *= 10;
  for (; div > 0; div /= 10) {
    put(<u8>(48 + ((v / div) % 10)));
  }
  return lastError;
}

export function ok(): i32 {
  lastError = E_OK;
  msgLen = 0;
  return E_OK;
}
