/** Evidence: police.uk files uploaded on the web and imported with progress. */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';

export function registerPoliceUploadRoutes(_app: FastifyInstance, _services: Services): void {}
