// Membership generations: a number per user that changes whenever a subscription decision about
// them may have gone stale (a kick, a recheck, a dropped channel). An authorisation that straddles
// such a change is asked again, so the kick wins over the subscribe racing it.
export class MembershipGenerations {
  /** Bumped by unsubscribeUser and rechecks of the user. */
  private readonly perUser = new Map<string, number>();
  /** Bumped by recheckTopics/dropTopics, which concern users not known in advance. */
  private global = 0;

  of(userId: string): number {
    return (this.perUser.get(userId) ?? 0) + this.global;
  }

  bump(userId: string): void {
    this.perUser.set(userId, (this.perUser.get(userId) ?? 0) + 1);
  }

  bumpAll(): void {
    this.global++;
  }

  /** The user has no socket here any more: nothing to compare against. */
  forget(userId: string): void {
    this.perUser.delete(userId);
  }
}
