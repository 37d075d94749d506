/** Evidence: police.uk trends for a partnership's area, priority links, the area itself. */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';

export function registerPoliceTrendRoutes(_app: FastifyInstance, _services: Services): void {}
