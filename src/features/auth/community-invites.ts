/**
 * Registration through a community invite link (issue 13 §8). With REGISTRATION_MODE=invite_only a
 * community invite carries the right to create an account when its creator may invite people to
 * the instance (the owner, or an administrator); the new account joins that community in the same
 * transaction as its creation, spending one use of the invite — so a one-use link makes one
 * account, however many sign-ups race. In open mode any usable community invite given at sign-up
 * is joined the same way.
 *
 * Auth does not know communities (they depend on auth): the communities feature installs the
 * redeemer below when it is imported (src/features/communities/index.ts).
 */
import type { AppDeps } from "../../deps.ts";
import type { Executor, Outbox, Tx } from "../../db/tx.ts";

export type CommunityInviteRedeemer = {
  /** Read-only: a usable community invite whose creator may invite to the instance. */
  grantsRegistration(db: Executor, code: string, now: Date): Promise<boolean>;
  /**
   * Inside the registration transaction, after the user row exists: spend one use and join.
   * `requireRight`: only an invite that grantsRegistration. Null when the code is not (or no
   * longer) such an invite.
   */
  redeem(deps: AppDeps, tx: Tx, outbox: Outbox, input: { code: string; userId: string; now: Date; requireRight: boolean }): Promise<{ communityId: string } | null>;
};

// `var` without an initializer, on purpose: communities registers while its own module is being
// evaluated, which can run before this module is (a script that imports communities first, with
// auth ⇄ communities imports in between). A `let` would be in its temporal dead zone then
// (ReferenceError), and an initializer would wipe the registration when this module runs later.
// eslint-disable-next-line no-var
var redeemer: CommunityInviteRedeemer | undefined;

export function registerCommunityInviteRedeemer(r: CommunityInviteRedeemer): void {
  redeemer = r;
}

export function communityInviteRedeemer(): CommunityInviteRedeemer | null {
  return redeemer ?? null;
}
