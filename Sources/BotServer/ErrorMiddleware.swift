import BotCore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Turns every error into the JSON error shape and records each request's route, status and latency.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = try error.response(from: request, context: context)
        } catch let error as HTTPError where error.status == .notFound {
            response = try APIError.notFound.response(from: request, context: context)
        } catch let error as HTTPError where error.status == .methodNotAllowed {
            response = try APIError(.methodNotAllowed, code: "method_not_allowed",
                                    message: "\(request.method) is not allowed here.").response(from: request, context: context)
        } catch is NIOTooManyBytesError {
            response = try APIError.tooLarge.response(from: request, context: context)
        } catch let error as HTTPError {
            response = try APIError(error.status, code: "http_error", message: error.body ?? error.status.reasonPhrase)
                .response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": .string(String(describing: error))])
            response = try APIError(.internalServerError, code: "internal",
                                    message: "Something went wrong on our side (request \(context.id)).")
                .response(from: request, context: context)
        }
        let route = context.endpointPath ?? "unmatched"
        metrics.recordRequest(route: route, method: request.method.rawValue, status: response.status.code,
                              duration: ContinuousClock.now - start)
        return response
    }
}
