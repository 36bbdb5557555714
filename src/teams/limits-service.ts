import { audit } from "../audit/log.ts";
import type { Db } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import type { User } from "../db/schema.ts";
import { allowances, setPersonLimits, setSiteLimits, siteLimits, spentBySite } from "./limits-repo.ts";
import { type Allowance, type Limits, parseLimit, type SiteLimits } from "./limits-words.ts";

type Form = Record<string, unknown>;

/** Spending limits for the pages: what a person has left, and the admin's settings (checked, in sentences). */
export function createLimitsService(db: Db) {
  return {
    /** Each limit that applies to the person, with what is left of it. */
    allowances: (userId: string): Promise<Allowance[]> => allowances(db, userId),

    site: (): Promise<SiteLimits> => siteLimits(db),

    /** What everyone spent this month (what the site's cap counts). */
    siteSpent: (): Promise<number> => spentBySite(db),

    /** The default limits and the site's cap, as the admin typed them; a LimitError says what is wrong. */
    async saveSite(actor: User, form: Form): Promise<SiteLimits> {
      const limits = {
        day: parseLimit(form.day, "The default daily limit"),
        month: parseLimit(form.month, "The default monthly limit"),
        siteMonth: parseLimit(form.siteMonth, "The site-wide monthly cap"),
      };
      await setSiteLimits(db, limits);
      await audit(db, {
        actorId: actor.id,
        actorName: actor.username,
        action: "limits.site",
        target: "the site's default limits and cap",
        detail: limits,
      });
      return limits;
    },

    /** One person's own limits (empty: their groups' or the default apply); false when there is no such person. */
    async savePerson(actor: User, userId: string, form: Form): Promise<Limits | undefined> {
      if (!isId(userId)) return undefined;
      const limits = {
        day: parseLimit(form.day, "The daily limit"),
        month: parseLimit(form.month, "The monthly limit"),
      };
      const username = await setPersonLimits(db, userId, limits);
      if (username === undefined) return undefined;
      await audit(db, {
        actorId: actor.id,
        actorName: actor.username,
        action: "limits.person",
        target: username,
        detail: limits,
      });
      return limits;
    },
  };
}

export type LimitsService = ReturnType<typeof createLimitsService>;
