import { Elysia } from "elysia";
import { requireSignIn } from "../auth/guard.ts";
import type { AuthService } from "../auth/service.ts";
import type { PickerService } from "./service.ts";

/** The picker's star: `model` and `favourite` ("true" or "false"), sent by static/model-picker.js. */
export function pickerRoutes(picker: PickerService, auth: AuthService) {
  return new Elysia({ name: "picker-routes" })
    .use(requireSignIn(auth))
    .post("/models/favourites", async ({ me, body, status }) => {
      const form = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
      const stored = await picker.setFavourite(me!.user.id, form.model, form.favourite === "true");
      return stored ? status(204) : status(400, "There is no such model.");
    });
}
