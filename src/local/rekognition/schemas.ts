import * as z from 'zod/mini';
import { shown } from '../../lib/schema.js';

/*
 * The request of each emulated operation as it arrives on the wire (awsJson1.1, PascalCase), checked against the
 * constraints of the service's own model (botocore's rekognition 2016-06-27 service-2.json: lengths, patterns,
 * ranges, list sizes). A request outside them is refused with InvalidParameterException naming the field and the
 * value, as the service does; the inferred types are what the service methods take. Fields the emulator does not
 * use (Tags, KmsKeyId, AutoUpdate, …) are accepted and dropped, as the service ignores fields it does not need.
 */

type Message = (issue: { readonly input?: unknown }) => string;

const says = (field: string, rule: string): Message => (issue) => `${field} must be ${rule}, got ${shown(issue.input)}`;

const NAME = /^[a-zA-Z0-9_.-]+$/;
const S3_BUCKET = /^[0-9A-Za-z.\-_]*$/;
const VERSION_DESCRIPTION = /^[a-zA-Z0-9\-_. ()':,;?]+$/;
const PROJECT_ARN = /^arn:[a-z\d-]+:rekognition:[a-z\d-]+:\d{12}:project\/[a-zA-Z0-9_.-]{1,255}\/[0-9]+$/;
const PROJECT_VERSION_ARN = /^arn:[a-z\d-]+:rekognition:[a-z\d-]+:\d{12}:project\/[a-zA-Z0-9_.-]{1,255}\/version\/[a-zA-Z0-9_.-]{1,255}\/[0-9]+$/;

function text(field: string, rule: string, min: number, max: number, pattern?: RegExp): z.ZodMiniString {
  const error = says(field, rule);
  return z.string({ error }).check(z.minLength(min, { error }), z.maxLength(max, { error }), ...(pattern ? [z.regex(pattern, { error })] : []));
}

const name = (field: string): z.ZodMiniString => text(field, '1–255 letters, digits, "_", "." or "-"', 1, 255, NAME);
const projectArn = (): z.ZodMiniString => text('ProjectArn', 'a Custom Labels project ARN', 20, 2048, PROJECT_ARN);
const projectVersionArn = (): z.ZodMiniString => text('ProjectVersionArn', 'a Custom Labels model version ARN', 20, 2048, PROJECT_VERSION_ARN);
const bucket = (field: string): z.ZodMiniString => text(field, 'an S3 bucket name (3–255 characters)', 3, 255, S3_BUCKET);

function integer(field: string, min: number, max?: number): z.ZodMiniNumber {
  const error = says(field, max === undefined ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`);
  return z.number({ error }).check(z.int({ error }), z.gte(min, { error }), ...(max === undefined ? [] : [z.lte(max, { error })]));
}

function percent(field: string): z.ZodMiniNumber {
  const error = says(field, 'a number from 0 to 100');
  return z.number({ error }).check(z.gte(0, { error }), z.lte(100, { error }));
}

/** A name filter, 1–10 names; sorted, so the same names in another order are the same query (and accept the same tokens). */
function names(field: string): z.ZodMiniPipe<z.ZodMiniArray<z.ZodMiniString>, z.ZodMiniTransform<string[], string[]>> {
  const error = says(field, 'a list of 1 to 10 names');
  return z.pipe(
    z.array(name(`${field}[]`), { error }).check(z.minLength(1, { error }), z.maxLength(10, { error })),
    z.transform((list: string[]) => [...list].sort()),
  );
}

/** MaxResults of a listing: the service's page sizes are 1–100. */
const pageSize = (): z.ZodMiniOptional<z.ZodMiniNumber> => z.optional(integer('MaxResults', 1, 100));
/** Any string: paginate() decides whether it is a token this query issued (InvalidPaginationTokenException). */
const nextToken = (): z.ZodMiniOptional<z.ZodMiniString> => z.optional(z.string({ error: says('NextToken', 'a string') }));

function s3Object(field: string) {
  return z.object(
    {
      Bucket: bucket(`${field}.Bucket`),
      Name: text(`${field}.Name`, 'an object key of 1–1024 characters', 1, 1024),
      Version: z.optional(text(`${field}.Version`, 'a version id of 1–1024 characters', 1, 1024)),
    },
    { error: says(field, 'an object with Bucket and Name') },
  );
}

/** The one Ground Truth manifest a dataset is trained or tested on. */
function manifestAssets(field: string) {
  const error = says(`${field}.Assets`, 'a list holding one GroundTruthManifest');
  return z
    .array(z.object({ GroundTruthManifest: z.object({ S3Object: s3Object(`${field}.Assets[0].GroundTruthManifest.S3Object`) }, { error }) }, { error }), { error })
    .check(z.length(1, { error }));
}

export const CreateProjectRequest = z.object({
  ProjectName: name('ProjectName'),
  Feature: z.optional(z.enum(['CUSTOM_LABELS', 'CONTENT_MODERATION'], { error: says('Feature', 'CUSTOM_LABELS or CONTENT_MODERATION') })),
});

export const DescribeProjectsRequest = z.object({
  ProjectNames: z.optional(names('ProjectNames')),
  MaxResults: pageSize(),
  NextToken: nextToken(),
});

export const TrainingData = z.object(
  {
    AutoCreate: z.optional(z.literal(false, { error: () => 'TrainingData.AutoCreate is only valid for TestingData' })),
    Assets: manifestAssets('TrainingData'),
  },
  { error: says('TrainingData', 'an object with Assets') },
);

export const TestingData = z
  .object(
    {
      AutoCreate: z.optional(z.boolean({ error: says('TestingData.AutoCreate', 'true or false') })),
      Assets: z.optional(manifestAssets('TestingData')),
    },
    { error: says('TestingData', 'an object with AutoCreate or Assets') },
  )
  .check(z.refine((data) => data.AutoCreate === true || data.Assets !== undefined, { error: 'TestingData needs AutoCreate: true or Assets with one GroundTruthManifest' }));

export const CreateProjectVersionRequest = z.object({
  ProjectArn: projectArn(),
  VersionName: name('VersionName'),
  OutputConfig: z.object(
    {
      S3Bucket: bucket('OutputConfig.S3Bucket'),
      S3KeyPrefix: z.optional(text('OutputConfig.S3KeyPrefix', 'a key prefix of at most 1024 characters', 0, 1024)),
    },
    { error: says('OutputConfig', 'an object with S3Bucket') },
  ),
  TrainingData,
  TestingData,
  VersionDescription: z.optional(text('VersionDescription', `1–255 letters, digits, spaces or -_.()':,;?`, 1, 255, VERSION_DESCRIPTION)),
});

export const DescribeProjectVersionsRequest = z.object({
  ProjectArn: projectArn(),
  VersionNames: z.optional(names('VersionNames')),
  MaxResults: pageSize(),
  NextToken: nextToken(),
});

export const StartProjectVersionRequest = z.object({
  ProjectVersionArn: projectVersionArn(),
  MinInferenceUnits: integer('MinInferenceUnits', 1),
  MaxInferenceUnits: z.optional(integer('MaxInferenceUnits', 1)),
});

export const StopProjectVersionRequest = z.object({ ProjectVersionArn: projectVersionArn() });

export const DeleteProjectVersionRequest = z.object({ ProjectVersionArn: projectVersionArn() });

/** Never echoes the bytes: an image is not something to put in an error message. */
const imageBytes = z.pipe(
  z.string({ error: () => 'Image.Bytes must be base64 image bytes' }),
  z.transform((base64: string): Uint8Array => Buffer.from(base64, 'base64')),
).check(z.refine((bytes) => bytes.length > 0, { error: 'Image.Bytes must not be empty' }));

export const DetectCustomLabelsRequest = z.object({
  ProjectVersionArn: projectVersionArn(),
  Image: z
    .object({ Bytes: z.optional(imageBytes), S3Object: z.optional(s3Object('Image.S3Object')) }, { error: () => 'Image must be an object with Bytes or S3Object' })
    .check(z.refine((image) => (image.Bytes === undefined) !== (image.S3Object === undefined), { error: 'Image needs exactly one of Bytes or S3Object' })),
  MaxResults: z.optional(integer('MaxResults', 0)),
  MinConfidence: z.optional(percent('MinConfidence')),
});

export type CreateProjectRequest = z.output<typeof CreateProjectRequest>;
export type DescribeProjectsRequest = z.output<typeof DescribeProjectsRequest>;
export type TrainingData = z.output<typeof TrainingData>;
export type TestingData = z.output<typeof TestingData>;
export type CreateProjectVersionRequest = z.output<typeof CreateProjectVersionRequest>;
export type DescribeProjectVersionsRequest = z.output<typeof DescribeProjectVersionsRequest>;
export type StartProjectVersionRequest = z.output<typeof StartProjectVersionRequest>;
export type StopProjectVersionRequest = z.output<typeof StopProjectVersionRequest>;
export type DeleteProjectVersionRequest = z.output<typeof DeleteProjectVersionRequest>;
export type DetectCustomLabelsRequest = z.output<typeof DetectCustomLabelsRequest>;
