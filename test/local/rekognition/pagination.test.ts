import {
  CreateProjectCommand,
  CreateProjectVersionCommand,
  DeleteProjectVersionCommand,
  DescribeProjectsCommand,
  DescribeProjectVersionsCommand,
  InvalidPaginationTokenException,
  InvalidParameterException,
  paginateDescribeProjects,
  paginateDescribeProjectVersions,
} from '@aws-sdk/client-rekognition';
import type { DescribeProjectVersionsCommandInput, DescribeProjectVersionsCommandOutput } from '@aws-sdk/client-rekognition';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUCKET, startHarness } from './harness.js';
import type { Harness } from './harness.js';

/*
 * Contract tests for paging DescribeProjects and DescribeProjectVersions, with the real SDK over HTTP. The versions
 * point at a manifest that does not exist, so each fails training at once: only the listing matters here.
 */

const VERSIONS = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7'];

let h: Harness;
let projectArn: string;

const createVersion = (name: string): CreateProjectVersionCommand =>
  new CreateProjectVersionCommand({
    ProjectArn: projectArn,
    VersionName: name,
    OutputConfig: { S3Bucket: BUCKET },
    TrainingData: { Assets: [{ GroundTruthManifest: { S3Object: { Bucket: BUCKET, Name: 'absent.manifest' } } }] },
    TestingData: { AutoCreate: true },
  });

beforeAll(async () => {
  h = await startHarness();
  projectArn = (await h.rekognition.send(new CreateProjectCommand({ ProjectName: 'paging' }))).ProjectArn ?? '';
  for (const name of VERSIONS) await h.rekognition.send(createVersion(name));
  // Every training has failed (no manifest), so any version can be deleted.
  await h.emulator.idle();
});

afterAll(async () => {
  await h.emulator.idle();
  await h.stop();
});

const arns = (output: DescribeProjectVersionsCommandOutput): string[] => (output.ProjectVersionDescriptions ?? []).map((v) => v.ProjectVersionArn ?? '');

const versionsPage = (input: Omit<DescribeProjectVersionsCommandInput, 'ProjectArn'>): Promise<DescribeProjectVersionsCommandOutput> =>
  h.rekognition.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn, ...input }));

/** Follows NextToken to the end; the pages' sizes and the ARNs in order. */
async function walk(maxResults: number, first: Omit<DescribeProjectVersionsCommandInput, 'ProjectArn'> = {}): Promise<{ sizes: number[]; arns: string[] }> {
  const sizes: number[] = [];
  const all: string[] = [];
  let token: string | undefined;
  do {
    const page = await versionsPage({ ...first, MaxResults: maxResults, NextToken: token });
    sizes.push(page.ProjectVersionDescriptions?.length ?? 0);
    all.push(...arns(page));
    token = page.NextToken;
    // A bound, so an emulator that never stops handing out tokens fails the test instead of hanging it.
    if (sizes.length > VERSIONS.length + 1) throw new Error('more pages than versions');
  } while (token);
  return { sizes, arns: all };
}

describe('DescribeProjectVersions paging', () => {
  it('lists at most 100 per call, newest first, with no NextToken when everything fits', async () => {
    const all = await versionsPage({});
    expect(all.NextToken).toBeUndefined();
    expect(all.ProjectVersionDescriptions).toHaveLength(VERSIONS.length);
    const times = (all.ProjectVersionDescriptions ?? []).map((v) => v.CreationTimestamp?.getTime() ?? Number.NaN);
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('pages by MaxResults: tokens round-trip, the last page has none, and the pages add up to the whole list', async () => {
    const whole = arns(await versionsPage({}));
    const first = await versionsPage({ MaxResults: 3 });
    expect(first.ProjectVersionDescriptions).toHaveLength(3);
    expect(typeof first.NextToken).toBe('string');
    const walked = await walk(3);
    expect(walked.sizes).toEqual([3, 3, 1]);
    expect(walked.arns).toEqual(whole);
    // The token is a cursor, not a one-shot: asking again with it gives the same page.
    const again = await versionsPage({ MaxResults: 3, NextToken: first.NextToken });
    const twice = await versionsPage({ MaxResults: 3, NextToken: first.NextToken });
    expect(arns(again)).toEqual(arns(twice));
    expect(arns(again)).toEqual(whole.slice(3, 6));
  });

  it('honours a different MaxResults on a later page, and a page that ends exactly at the end has no token', async () => {
    const whole = arns(await versionsPage({}));
    const first = await versionsPage({ MaxResults: 2 });
    const rest = await versionsPage({ MaxResults: 5, NextToken: first.NextToken });
    expect(arns(rest)).toEqual(whole.slice(2));
    expect(rest.NextToken).toBeUndefined();
  });

  it('walks every page through the SDK paginator', async () => {
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeProjectVersions({ client: h.rekognition, pageSize: 2 }, { ProjectArn: projectArn })) {
      pages += 1;
      seen.push(...arns(page));
    }
    expect(pages).toBe(4);
    expect(seen).toEqual(arns(await versionsPage({})));
  });

  it('pages a VersionNames filter too', async () => {
    const names = ['v2', 'v4', 'v6'];
    const walked = await walk(2, { VersionNames: names });
    expect(walked.sizes).toEqual([2, 1]);
    expect(walked.arns).toEqual(arns(await versionsPage({})).filter((arn) => names.includes(arn.split('/')[3] ?? '')));
  });

  it('refuses a token it did not issue, or one issued for another query', async () => {
    const { NextToken } = await versionsPage({ MaxResults: 2 });
    expect(NextToken).toBeDefined();
    await expect(versionsPage({ NextToken: 'not-a-token' })).rejects.toBeInstanceOf(InvalidPaginationTokenException);
    await expect(versionsPage({ NextToken: Buffer.from('{"v":1,"q":"x","after":""}').toString('base64url') })).rejects.toBeInstanceOf(InvalidPaginationTokenException);
    // Same project, different filter.
    await expect(versionsPage({ VersionNames: ['v1', 'v2', 'v3'], NextToken })).rejects.toBeInstanceOf(InvalidPaginationTokenException);
    // Another operation.
    await expect(h.rekognition.send(new DescribeProjectsCommand({ NextToken }))).rejects.toBeInstanceOf(InvalidPaginationTokenException);
    // Another project.
    const other = (await h.rekognition.send(new CreateProjectCommand({ ProjectName: 'paging-other' }))).ProjectArn ?? '';
    await expect(h.rekognition.send(new DescribeProjectVersionsCommand({ ProjectArn: other, NextToken }))).rejects.toBeInstanceOf(InvalidPaginationTokenException);
  });

  it.each([0, 101, 2.5])('refuses MaxResults %s', async (maxResults) => {
    await expect(versionsPage({ MaxResults: maxResults })).rejects.toBeInstanceOf(InvalidParameterException);
  });

  /** The first page of 3, then `change`, then the rest of the walk. */
  async function walkAcross(change: (firstPage: string[]) => Promise<void>): Promise<string[]> {
    const first = await versionsPage({ MaxResults: 3 });
    await change(arns(first));
    const seen = arns(first);
    let token = first.NextToken;
    while (token) {
      const page = await versionsPage({ MaxResults: 3, NextToken: token });
      seen.push(...arns(page));
      token = page.NextToken;
    }
    return seen;
  }

  // The last two change the project's versions.
  it('neither repeats nor skips a version when a newer one is created between pages', async () => {
    const before = arns(await versionsPage({}));
    // An offset would now point one version back and list the third one twice.
    const seen = await walkAcross(async () => {
      await h.rekognition.send(createVersion('v-late'));
      await h.emulator.idle();
    });
    expect(seen).toEqual(before);
  });

  it('does not skip a version when one already listed is deleted between pages', async () => {
    const before = arns(await versionsPage({}));
    let deleted = '';
    // An offset would now point one version forward and never list the fourth.
    const seen = await walkAcross(async (firstPage) => {
      deleted = firstPage[0] ?? '';
      await h.rekognition.send(new DeleteProjectVersionCommand({ ProjectVersionArn: deleted }));
    });
    expect(deleted).not.toBe('');
    expect(seen).toEqual(before);
    expect(arns(await versionsPage({}))).toEqual(before.filter((arn) => arn !== deleted));
  });
});

describe('DescribeProjects paging', () => {
  const NAMES = ['paging-a', 'paging-b', 'paging-c'];

  beforeAll(async () => {
    for (const name of NAMES) await h.rekognition.send(new CreateProjectCommand({ ProjectName: name }));
  });

  it('pages by MaxResults, through the SDK paginator as well, and refuses a foreign token or a bad MaxResults', async () => {
    const whole = (await h.rekognition.send(new DescribeProjectsCommand({}))).ProjectDescriptions ?? [];
    expect(whole.length).toBeGreaterThanOrEqual(NAMES.length + 1);

    const first = await h.rekognition.send(new DescribeProjectsCommand({ ProjectNames: NAMES, MaxResults: 2 }));
    expect(first.ProjectDescriptions).toHaveLength(2);
    const second = await h.rekognition.send(new DescribeProjectsCommand({ ProjectNames: NAMES, MaxResults: 2, NextToken: first.NextToken }));
    expect(second.ProjectDescriptions).toHaveLength(1);
    expect(second.NextToken).toBeUndefined();
    const listed = [...(first.ProjectDescriptions ?? []), ...(second.ProjectDescriptions ?? [])].map((p) => p.ProjectArn?.split('/')[1]);
    expect(listed).toEqual(NAMES);

    const paged: string[] = [];
    for await (const page of paginateDescribeProjects({ client: h.rekognition, pageSize: 1 }, {})) paged.push(...(page.ProjectDescriptions ?? []).map((p) => p.ProjectArn ?? ''));
    expect(paged).toEqual(whole.map((p) => p.ProjectArn ?? ''));

    await expect(h.rekognition.send(new DescribeProjectsCommand({ NextToken: first.NextToken }))).rejects.toBeInstanceOf(InvalidPaginationTokenException);
    await expect(versionsPage({ NextToken: first.NextToken })).rejects.toBeInstanceOf(InvalidPaginationTokenException);
    await expect(h.rekognition.send(new DescribeProjectsCommand({ MaxResults: 0 }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(h.rekognition.send(new DescribeProjectsCommand({ MaxResults: 101 }))).rejects.toBeInstanceOf(InvalidParameterException);
  });
});
