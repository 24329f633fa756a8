import type { Dataset } from "../data/dataset.ts";

/** One visitor's logged steps cut into episodes, each a list of indices into `dataset.steps` in time order. */
export interface VisitorEpisodes {
  visitor: string;
  episodes: number[][];
}

/**
 * Cuts each visitor's steps into episodes: maximal chains in which every step's `next` is the state
 * of the visitor's following step. A chain ends where a step is terminal (the visitor did not come
 * back within the horizon) or where its next state was held back as too young to score; in the
 * second case the episode is truncated and its unseen rewards count as 0.
 */
export function visitorEpisodes(dataset: Dataset): VisitorEpisodes[] {
  const byVisitor = new Map<string, number[][]>();
  let previous = -1;
  dataset.steps.forEach((step, i) => {
    let episodes = byVisitor.get(step.visitor);
    if (!episodes) byVisitor.set(step.visitor, (episodes = []));
    const before = previous === -1 ? undefined : dataset.steps[previous];
    const continues = before !== undefined && before.visitor === step.visitor && before.next === step.state;
    const current = episodes.at(-1);
    if (continues && current) current.push(i);
    else episodes.push([i]);
    previous = i;
  });
  return [...byVisitor].map(([visitor, episodes]) => ({ visitor, episodes }));
}
