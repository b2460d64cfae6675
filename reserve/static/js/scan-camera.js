// The scan page's camera (no inline script: CSP). The browser's own BarcodeDetector where it
// reads QR codes; otherwise the vendored ponyfill (barcode-detector, ZXing compiled to
// WebAssembly), its .wasm served from static/vendor, never from a CDN. Says plainly why the
// camera is unavailable: not a secure context (plain HTTP), no camera API, refused, no decoder.
(function () {
  "use strict";

  function ScanCamera(options) {
    this.video = options.video;
    this.wasmUrl = options.wasmUrl;
    this.onCode = options.onCode; // function (text)
    this.stream = null;
    this.timer = null;
    this.detector = null;
    this.busy = false;
  }

  // Why the camera cannot work here, or null when it may (the user may still refuse).
  ScanCamera.unavailableReason = function () {
    if (!window.isSecureContext) {
      return "cameraInsecure";
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return "cameraNone";
    }
    return null;
  };

  function ponyfill(wasmUrl) {
    var api = window.BarcodeDetectionAPI;
    if (!api) {
      return null;
    }
    api.prepareZXingModule({
      overrides: {
        locateFile: function (path, prefix) {
          return path.endsWith(".wasm") ? wasmUrl : prefix + path;
        },
      },
    });
    return new api.BarcodeDetector({ formats: ["qr_code"] });
  }

  ScanCamera.prototype.makeDetector = function () {
    var wasmUrl = this.wasmUrl;
    if ("BarcodeDetector" in window && window.BarcodeDetector.getSupportedFormats) {
      return window.BarcodeDetector.getSupportedFormats()
        .then(function (formats) {
          return formats.indexOf("qr_code") !== -1
            ? new window.BarcodeDetector({ formats: ["qr_code"] })
            : ponyfill(wasmUrl);
        })
        .catch(function () {
          return ponyfill(wasmUrl);
        });
    }
    return Promise.resolve(ponyfill(wasmUrl));
  };

  // Resolves to null when running, or to the name of the reason it is not.
  ScanCamera.prototype.start = function () {
    var self = this;
    var reason = ScanCamera.unavailableReason();
    if (reason) {
      return Promise.resolve(reason);
    }
    return this.makeDetector()
      .then(function (detector) {
        if (!detector) {
          return "cameraNoDecoder";
        }
        self.detector = detector;
        return navigator.mediaDevices
          .getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
          .then(function (stream) {
            self.stream = stream;
            self.video.srcObject = stream;
            return self.video.play().then(function () {
              self.timer = window.setInterval(function () {
                self.tick();
              }, 250);
              return null;
            });
          })
          .catch(function () {
            return "cameraDenied";
          });
      })
      .catch(function () {
        return "cameraNoDecoder";
      });
  };

  ScanCamera.prototype.tick = function () {
    var self = this;
    if (this.busy || !this.detector || this.video.readyState < 2) {
      return;
    }
    this.busy = true;
    this.detector
      .detect(this.video)
      .then(function (codes) {
        self.busy = false;
        if (codes && codes.length && self.stream) {
          var text = codes[0].rawValue;
          self.stop();
          self.onCode(text);
        }
      })
      .catch(function () {
        self.busy = false;
      });
  };

  ScanCamera.prototype.stop = function () {
    if (this.timer) {
      window.clearInterval(this.timer);
      this.timer = null;
    }
    if (this.stream) {
      this.stream.getTracks().forEach(function (track) {
        track.stop();
      });
      this.stream = null;
    }
    this.video.srcObject = null;
  };

  window.ReserveScanCamera = ScanCamera;
})();
