/*
 * Bench-only: classify as it would be deployed with X-Ray active tracing through Powertools Tracer (the handler's
 * subsegment with cold-start and service annotations, and the three SDK clients captured), so the cold-start bench
 * can weigh the tracing decision (README, "Tracing"). Not deployed: tracing is off by default.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import { handler as classify } from '../../src/handlers/classify.js';
import { deployedRuntime } from '../../src/lib/composition.js';
import type { ImageOutcome } from '../../src/lib/image-outcome.js';

const tracer = new Tracer({ serviceName: 'classify' });
// The container's runtime is built once: these are the clients classify's module has just built.
const runtime = deployedRuntime();
tracer.captureAWSv3Client(runtime.s3);
tracer.captureAWSv3Client(runtime.rekognition);
tracer.captureAWSv3Client(runtime.documents);

export const handler = async (event: unknown, context: Context): Promise<ImageOutcome[]> => {
  const segment = tracer.getSegment();
  const subsegment = segment?.addNewSubsegment('## classify');
  if (subsegment) tracer.setSegment(subsegment);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  try {
    const outcomes = await classify(event, context);
    tracer.addResponseAsMetadata({ images: outcomes.length }, 'classify');
    return outcomes;
  } catch (error) {
    if (error instanceof Error) tracer.addErrorAsMetadata(error);
    throw error;
  } finally {
    subsegment?.close();
    if (segment) tracer.setSegment(segment);
  }
};
