/**
 * The KMIP object lifecycle (KMIP 1.4 §3.22 / 2.1 §4.57 "State"), as pure functions: given an
 * object's state and dates, what an operation does to them, or why the state forbids it.
 *
 *   PreActive   --Activate / Activation Date reached-->            Active
 *   PreActive   --Revoke (compromise)-->                           Compromised
 *   PreActive   --Destroy-->                                       Destroyed
 *   Active      --Revoke (other reason) / Deactivation Date reached--> Deactivated
 *   Active      --Revoke (compromise)-->                           Compromised
 *   Deactivated --Revoke (compromise)-->                           Compromised
 *   Deactivated --Destroy-->                                       Destroyed
 *   Compromised --Destroy-->                                       DestroyedCompromised
 *   Destroyed   --Revoke (compromise)-->                           DestroyedCompromised
 *
 * A forbidden operation fails with Permission Denied up to KMIP 2.0 and Wrong Key Lifecycle
 * State from 2.1 on, as the OASIS SKLC vectors of each version expect.
 */
export type LifecycleState = 'PreActive' | 'Active' | 'Deactivated' | 'Compromised' | 'Destroyed' | 'DestroyedCompromised';

export const LIFECYCLE_STATES: readonly LifecycleState[] = [
  'PreActive',
  'Active',
  'Deactivated',
  'Compromised',
  'Destroyed',
  'DestroyedCompromised',
];

/** The lifecycle dates, seconds since the epoch (KMIP Date-Time). */
export interface LifecycleDates {
  initialDate?: bigint;
  activationDate?: bigint;
  processStartDate?: bigint;
  protectStopDate?: bigint;
  deactivationDate?: bigint;
  destroyDate?: bigint;
  compromiseOccurrenceDate?: bigint;
  compromiseDate?: bigint;
  lastChangeDate?: bigint;
}

export type DenialReason = 'permission_denied' | 'wrong_key_lifecycle_state';

export type Transition =
  | { readonly ok: true; readonly state: LifecycleState; readonly dates: LifecycleDates }
  | { readonly ok: false; readonly reason: DenialReason; readonly message: string };

export interface ProtocolVersion {
  readonly major: number;
  readonly minor: number;
}

export function denialReason(v: ProtocolVersion): DenialReason {
  return v.major > 2 || (v.major === 2 && v.minor >= 1) ? 'wrong_key_lifecycle_state' : 'permission_denied';
}

function deny(v: ProtocolVersion, message: string): Transition {
  return { ok: false, reason: denialReason(v), message };
}

export function isLifecycleState(s: string): s is LifecycleState {
  return (LIFECYCLE_STATES as readonly string[]).includes(s);
}

export function isDestroyed(s: LifecycleState): boolean {
  return s === 'Destroyed' || s === 'DestroyedCompromised';
}

/** The dates a new object starts with: Initial Date = now; an Activation Date may come from the request. */
export function initialState(now: bigint, requested: { activationDate?: bigint; deactivationDate?: bigint }): {
  state: LifecycleState;
  dates: LifecycleDates;
} {
  const dates: LifecycleDates = { initialDate: now, lastChangeDate: now };
  if (requested.activationDate !== undefined) dates.activationDate = requested.activationDate;
  if (requested.deactivationDate !== undefined) dates.deactivationDate = requested.deactivationDate;
  return { state: advanceByDates('PreActive', dates, now), dates };
}

/** Time-driven transitions: an Activation Date or Deactivation Date in the past takes effect. */
export function advanceByDates(state: LifecycleState, dates: LifecycleDates, now: bigint): LifecycleState {
  let s = state;
  if (s === 'PreActive' && dates.activationDate !== undefined && dates.activationDate <= now) s = 'Active';
  if (s === 'Active' && dates.deactivationDate !== undefined && dates.deactivationDate <= now) s = 'Deactivated';
  return s;
}

export function activate(state: LifecycleState, dates: LifecycleDates, now: bigint, v: ProtocolVersion): Transition {
  if (state !== 'PreActive') return deny(v, `the object is ${state}, not PreActive`);
  const next = { ...dates, activationDate: now, lastChangeDate: now };
  return { ok: true, state: advanceByDates('Active', next, now), dates: next };
}

export function isCompromiseReason(code: string): boolean {
  return code === 'KeyCompromise' || code === 'CACompromise';
}

export function revoke(
  state: LifecycleState,
  dates: LifecycleDates,
  reasonCode: string,
  compromiseOccurrenceDate: bigint | undefined,
  now: bigint,
  v: ProtocolVersion,
): Transition {
  if (isCompromiseReason(reasonCode)) {
    if (state === 'Compromised' || state === 'DestroyedCompromised') return deny(v, `the object is already ${state}`);
    const next: LifecycleDates = {
      ...dates,
      compromiseDate: now,
      compromiseOccurrenceDate: compromiseOccurrenceDate ?? dates.initialDate ?? now,
      lastChangeDate: now,
    };
    return { ok: true, state: state === 'Destroyed' ? 'DestroyedCompromised' : 'Compromised', dates: next };
  }
  if (state !== 'Active') return deny(v, `the object is ${state}; only an Active object is revoked for this reason`);
  return { ok: true, state: 'Deactivated', dates: { ...dates, deactivationDate: now, lastChangeDate: now } };
}

export function destroy(state: LifecycleState, dates: LifecycleDates, now: bigint, v: ProtocolVersion): Transition {
  switch (state) {
    case 'PreActive':
    case 'Deactivated':
      return { ok: true, state: 'Destroyed', dates: { ...dates, destroyDate: now, lastChangeDate: now } };
    case 'Compromised':
      return { ok: true, state: 'DestroyedCompromised', dates: { ...dates, destroyDate: now, lastChangeDate: now } };
    case 'Active':
      return deny(v, 'an Active object must be revoked before it is destroyed');
    default:
      return deny(v, `the object is already ${state}`);
  }
}

/**
 * May a date attribute be set or changed by a client in this state (KMIP's rules for
 * Activation Date, Deactivation Date, ...)? Activation Date only while PreActive; Deactivation
 * Date while PreActive or Active; the others are server-managed.
 */
export function maySetDate(name: keyof LifecycleDates, state: LifecycleState): boolean {
  switch (name) {
    case 'activationDate':
    case 'processStartDate':
      return state === 'PreActive';
    case 'deactivationDate':
    case 'protectStopDate':
      return state === 'PreActive' || state === 'Active';
    default:
      return false;
  }
}

/** Is the object's material usable for Get in this state? Destroyed objects have none left. */
export function hasMaterial(state: LifecycleState): boolean {
  return !isDestroyed(state);
}
