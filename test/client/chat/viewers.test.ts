// The viewer list a tab encrypts for (src/client/chat/viewers.ts): an invalidation that arrives
// while the list is being fetched must not hand the caller the list from before the change. This
// is how Olivia's open tab missed Frank's new device under load (CI, test/e2e/live-keys): the
// join's refresh was still in flight when his device registered, the device's refresh got the
// in-flight (old) answer, and nothing fetched again until her next send.
import { describe, expect, test } from "bun:test";
import type { Api } from "../../../src/client/chat/api.ts";
import { Viewers } from "../../../src/client/chat/viewers.ts";

type Answer = { viewer_version: number; history_visibility: "shared"; viewer_since: null; members: { user_id: string; display_name: string; devices: string[] }[] };

/** A members endpoint whose answers the test releases one by one, reading the server state at answer time. */
function controlledApi(state: { version: number; frankDevices: string[] }) {
  const pending: (() => void)[] = [];
  let calls = 0;
  const api: Api = {
    async call<T>(_method: string, _path: string): Promise<T> {
      calls++;
      // The server reads its state when the request arrives.
      const answer: Answer = {
        viewer_version: state.version,
        history_visibility: "shared",
        viewer_since: null,
        members: [
          { user_id: "olivia", display_name: "Olivia", devices: ["o1"] },
          { user_id: "frank", display_name: "Frank", devices: [...state.frankDevices] },
        ],
      };
      await new Promise<void>((r) => pending.push(r));
      return answer as T;
    },
  } as Api;
  return { api, release: () => pending.shift()?.(), calls: () => calls, waiting: () => pending.length };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("Viewers", () => {
  test("a change during a fetch fetches again before the list is handed out", async () => {
    const state = { version: 1, frankDevices: [] as string[] };
    const server = controlledApi(state);
    const viewers = new Viewers("c", server.api);
    const first = viewers.current(); // the join's refresh: Frank has no device yet
    await tick();
    state.version = 2;
    state.frankDevices = ["f1"]; // his device registers while that answer is on its way
    viewers.invalidate(); // viewers:changed for the device
    const second = viewers.current(); // the device's refresh
    server.release();
    await tick();
    expect(server.waiting()).toBe(1); // fetched again instead of settling on the old answer
    server.release();
    const [a, b] = await Promise.all([first, second]);
    expect(b.version).toBe(2);
    expect(b.devicesByUser.get("frank")).toEqual(["f1"]);
    expect(a).toBe(b);
    expect(server.calls()).toBe(2);
  });

  test("without a change one request serves every concurrent caller, and a fresh list is reused", async () => {
    const server = controlledApi({ version: 5, frankDevices: ["f1"] });
    const viewers = new Viewers("c", server.api);
    const both = Promise.all([viewers.current(), viewers.current()]);
    await tick();
    server.release();
    const [a, b] = await both;
    expect(a).toBe(b);
    expect(await viewers.current()).toBe(a);
    expect(server.calls()).toBe(1);
  });

  test("a stream of changes is bounded: the caller gets an answer after a few fetches", async () => {
    const state = { version: 1, frankDevices: [] as string[] };
    const server = controlledApi(state);
    const viewers = new Viewers("c", server.api);
    const list = viewers.current();
    for (let i = 0; i < 10 && server.calls() < 10; i++) {
      await tick();
      state.version++;
      viewers.invalidate();
      server.release();
    }
    const got = await list;
    expect(server.calls()).toBe(4); // one fetch and at most three more
    expect(got.version).toBeGreaterThan(1);
  });
});
