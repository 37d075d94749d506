/**
 * The quarter’s board report: an HTML page, DOCX and PDF, from the closed snapshot once the quarter is closed.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';

export function registerBoardReportRoutes(app: FastifyInstance, services: Services): void {
  void app;
  void services;
}
